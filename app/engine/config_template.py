"""The commented `.github/stopship.yml` that `stopship init` writes: every key with its default,
the chosen launch context set, and the yaml-language-server comment that points editors at the
JSON Schema (`schemas/stopship.schema.json`, generated from `StopshipConfig`)."""

from __future__ import annotations

from app.engine.config import Launch

SCHEMA_URL = "https://raw.githubusercontent.com/stopship/stopship/main/schemas/stopship.schema.json"


def _yes(value: bool) -> str:
    return "true" if value else "false"


def config_template(launch: Launch) -> str:
    """The file's text; it parses to the defaults with `launch` as the launch context."""
    return f"""\
# yaml-language-server: $schema={SCHEMA_URL}
# stopship configuration: https://github.com/stopship/stopship#configuration-githubstopshipyml
# Every key is optional; a commented line shows the default or an example. For a pull
# request this file is read from the base branch, so a change cannot relax its own gate.

# How strict the gate is: internal -> Low (minimum score 50), beta -> Medium (70),
# public -> High (80, security >= 90), paid or payments -> High with payment paths stop-ship.
launch:
  {f"stage: {launch.stage}":<20}# internal | beta | public | paid
  {f"user_data: {_yes(launch.user_data)}":<20}# the service stores personal data
  {f"payments: {_yes(launch.payments)}":<20}# the service takes payments

# Fail below this score (default: the strictness' minimum).
# min_score: 80

# Branches the gate applies to (globs).
# release_branches: ["main", "master", "release/*", "releases/*"]

# Rules switched off, and severities changed (`stopship rules` lists the ids).
# rules:
#   disable: [OBS005]
#   severity:
#     DEP011: low

# Paths never audited (globs).
# ignore_paths: ["vendor/**", "**/testdata/**"]

# Paths where a finding is stop-ship at the paid / payments strictness (globs).
# payment_paths: ["**/payment*/**", "**/payments*", "**/billing*/**", "**/billing*",
#                 "**/checkout*", "**/stripe*", "**/invoice*", "**/webhooks/stripe*"]

# Check-run annotations: their level (default: by severity) and how many at most.
# annotations:
#   level: warning                # notice | warning | failure
#   max: 1000

# Check-run conclusion outside release branches, or when the gate passes with findings.
# conclusion_outside_release: neutral   # neutral | success

# The release the next deployment builds on: migrations up to it are history, not findings
# (default: the latest tag matching release_tags reachable from the commit).
# baseline: v4.1.3

# Globs of release tag names; one starting with `!` excludes ("!*-*": no pre-releases).
# release_tags: ["v[0-9]*", "[0-9]*"]

# What people confirm because code cannot show it (`/production confirm ITEM evidence` on a
# pull request), required per launch stage: an unconfirmed one is an unmet item of the
# release-gate checklist and rejects a deployment (it does not fail a pull request's check).
# Items: backups, rollback, on-call, load-test, incident-response.
# attestations:
#   required:
#     internal: []
#     beta: []
#     public: [backups, rollback]
#     paid: [backups, rollback, on-call, load-test, incident-response]
# CLI and Action: ask OSV (osv.dev) about the versions pinned in the lock files; high and
# critical advisories are findings (SEC028, SEC029). Offline, the report says so.
# vulnerabilities: false
"""
