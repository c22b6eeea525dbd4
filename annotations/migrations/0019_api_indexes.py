"""A thread's posts in order, with what the API's list of a course's posts filters on.

``post_thread_created_idx`` (thread, time) gains the post's id, moderation state and author
as included columns. The list of a course's posts sorts every post of the course's visible
threads to cut a page, reading only those columns for it (``PostViewSet.page_rows``): from
this index alone, instead of visiting each post's row. It serves a thread's own page as the
index it replaces did.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("annotations", "0018_grading_indexes")]

    operations = [
        migrations.RemoveIndex(model_name="post", name="post_thread_created_idx"),
        migrations.AddIndex(
            model_name="post",
            index=models.Index(
                fields=["thread", "created_at"],
                include=("id", "moderation", "author"),
                name="post_thread_page_idx",
            ),
        ),
    ]
