"""voicetrail's command line: local API, signing, demo and operator tools. Never shipped in the layer."""
