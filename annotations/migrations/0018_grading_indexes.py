"""An index of the notes that count toward an assignment: a course's shared, standing notes
with a text, by date, carrying the author, paragraph and claim. The class table's count of a
class's notes inside an assignment's dates then reads this index alone (an index-only scan)
instead of every note of the course in those dates."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("annotations", "0017_verbose_names")]

    operations = [
        migrations.AddIndex(
            model_name="annotation",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", True), ("moderation", "published"))
                & ~models.Q(("visibility", "private"))
                & ~models.Q(("body", "")),
                fields=["course", "created_at"],
                include=("author", "paragraph", "claim"),
                name="annotation_counted_idx",
            ),
        ),
    ]
