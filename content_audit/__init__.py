"""Screening of every outgoing copy (issue #4). Nothing is built here yet."""
