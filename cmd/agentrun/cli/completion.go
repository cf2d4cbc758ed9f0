package cli

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// bashCompletion asks agentrun itself for the candidates (urfave/cli's
// --generate-bash-completion) and falls back to file names, so the agent's own arguments
// after -- complete as usual.
const bashCompletion = `_agentrun_complete() {
  local cur words
  cur="${COMP_WORDS[COMP_CWORD]}"
  words=("${COMP_WORDS[@]:0:COMP_CWORD}")
  local i
  for i in "${words[@]}"; do
    [[ "$i" == "--" ]] && return 0
  done
  if [[ "$cur" == -* ]]; then
    words+=("$cur")
  fi
  COMPREPLY=($(compgen -W "$("${words[@]}" --generate-bash-completion 2>/dev/null)" -- "$cur"))
}
complete -o bashdefault -o default -F _agentrun_complete agentrun
`

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script: bash, zsh or fish",
		ArgsUsage: "SHELL",
		Description: `Load it in your shell's start-up file:
  bash:  source <(agentrun completion bash)
  zsh:   source <(agentrun completion zsh)
  fish:  agentrun completion fish | source`,
		Action: func(c *cli.Context) error {
			shell, err := oneArg(c, "shell name (bash, zsh or fish)")
			if err != nil {
				return err
			}
			switch shell {
			case "bash":
				_, err = fmt.Fprint(c.App.Writer, bashCompletion)
			case "zsh":
				_, err = fmt.Fprint(c.App.Writer, "autoload -U +X bashcompinit && bashcompinit\n"+bashCompletion)
			case "fish":
				var script string
				if script, err = c.App.ToFishCompletion(); err == nil {
					_, err = fmt.Fprint(c.App.Writer, script)
				}
			default:
				return usageError("write agentrun completion bash, zsh or fish", "no completion for shell %q", shell)
			}
			return err
		},
	}
}
