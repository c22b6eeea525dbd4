"""Date and number formats per language, where the project's differ from Django's own."""
