"""The server-rendered web UI: plain HTML forms over the same commands the API
serves, so every permission check stays in the command handlers."""
