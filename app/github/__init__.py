"""GitHub I/O: app and installation authentication (githubkit), check runs."""
