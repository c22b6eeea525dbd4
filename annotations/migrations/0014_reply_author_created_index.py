"""An index on annotation replies by author and date: the class table counts a class's
replies inside an assignment's dates without reading every reply of the site."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0013_annotation_search_vector"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="annotationreply",
            index=models.Index(fields=["author", "created_at"], name="reply_author_created_idx"),
        ),
    ]
