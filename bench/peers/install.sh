#!/usr/bin/env bash
# Installs what bench/peers compares agentrun with, on Debian or Ubuntu as root: bubblewrap,
# OpenAI Codex (`codex sandbox`, 0.145 or later) and Anthropic's sandbox-runtime (`srt`, which
# on Linux also needs socat and ripgrep). Not part of CI: the comparison is run by hand.
set -euo pipefail
apt-get update -qq
apt-get install -y -qq bubblewrap socat ripgrep
command -v npm >/dev/null || apt-get install -y -qq nodejs npm
npm install -g @openai/codex@'>=0.145' @anthropic-ai/sandbox-runtime
codex --version
srt --version
