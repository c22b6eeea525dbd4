"""Course pages: my courses, joining, creating, and the instructor's management pages."""
