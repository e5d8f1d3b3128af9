# The fixtures are files for the peers to lint, not tests to collect.
collect_ignore_glob = ["fixtures/*"]
