"""The real-server test rig behind tests/rig/rig.py (see docs/testing-rig.md).

config     versions, models, cache and state paths, config templates (tests/rig/templates)
output     [rig] log lines, timed steps, RigError
net        tiny HTTP client, free ports, waiting for a server
procs      daemons: start, find by pid file, stop
build      go install of Ollama and its llama-server into the cache
ollama     ollama serve and the API calls the rig makes
models     the tiny real models from PyPI, imported into the seed instance
registry   docker-registry + nginx front, the cached registry storage, retag/restore
instance   the sub-commands: up, down, status, registry-stop/-start, retag, restore, build
cli        the command line (rig.py calls cli.main)
"""
