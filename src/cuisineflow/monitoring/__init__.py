"""Monitoring: reference profiles, drift and performance statistics, prediction logs."""

# Where the Lambda function puts its JSON Lines prediction logs (read by `monitor`). Kept
# here, free of imports, so the Lambda package can share it without pyarrow.
INCOMING = "monitoring/incoming"
