"""Account pages beyond Django's own: signing up."""
