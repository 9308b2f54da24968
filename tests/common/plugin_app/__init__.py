"""A test-only package that plugs into the shell the way a new package does: a permission, a menu entry and a
home panel registered in its AppConfig.ready(), without a line in cases/ or base.html."""
