from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("blog", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="post",
            name="slug",
            field=models.SlugField(max_length=200, null=True),
        ),
        AddIndexConcurrently(
            model_name="post",
            index=models.Index(fields=["title"], name="blog_post_title_idx"),
        ),
    ]
