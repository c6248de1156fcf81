"""Monitoring: reference profiles, drift and performance statistics, prediction logs."""
