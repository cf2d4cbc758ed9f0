package launcher

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/agentrun/agentrun/display"
	"github.com/agentrun/agentrun/events"
)

// maxAnnotations is how many denial groups a run prints as GitHub workflow commands: GitHub
// shows at most 10 warnings per step anyway, and a flood must not fill the job's log.
const maxAnnotations = 20

// maxSummaryRows is how many denial groups the step summary's table lists.
const maxSummaryRows = 50

// inGitHubActions reports whether agentrun runs as a GitHub Actions step.
func inGitHubActions() bool { return os.Getenv("GITHUB_ACTIONS") == "true" }

// githubAnnotations writes the report's denials as workflow commands (::warning, with the file
// for file and exec events) and, when the deadline was hit, an ::error. Agent-controlled text
// goes through display.Escape and then GitHub's escaping of command data; the file property
// is the exact path with GitHub's escaping of properties, and is left out when the path holds
// other control or invisible characters than CR and LF.
func githubAnnotations(w io.Writer, r *Report) {
	if r.Timeout != nil && r.Timeout.Hit {
		fmt.Fprintf(w, "::error title=agentrun::%s\n", ghData(timeoutLine(r)))
	}
	for i, g := range r.Denials {
		if i == maxAnnotations {
			fmt.Fprintf(w, "::warning title=agentrun::%s\n", ghData(fmt.Sprintf("%d more groups of denials: see the report or the step summary", len(r.Denials)-i)))
			break
		}
		props := "title=" + ghProperty("agentrun "+string(g.Verdict))
		if (g.Kind == events.KindFile || g.Kind == events.KindExec) && display.Plain(strings.NewReplacer("\n", "", "\r", "").Replace(g.Target)) {
			props = "file=" + ghProperty(g.Target) + "," + props
		}
		fmt.Fprintf(w, "::warning %s::%s\n", props, ghData(denialText(g)))
	}
}

// denialText is one denial group for people, escaped.
func denialText(g ReportGroup) string {
	s := fmt.Sprintf("%s %s %s %s (×%d)", g.Verdict, g.Kind, display.Escape(g.Op), display.Escape(g.Target), g.Count)
	if g.Rule != "" {
		s += "; rule " + display.Escape(g.Rule)
	}
	if len(g.Chain) > 0 {
		s += "; by " + display.Escape(strings.Join(g.Chain, " ← "))
	}
	return s
}

// ghData escapes a workflow command's message as GitHub's toolkit does (escapeData).
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a workflow command's property value (escapeProperty): also : and ,.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// appendStepSummary appends the run as markdown to the file $GITHUB_STEP_SUMMARY names.
func appendStepSummary(path string, r *Report) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("appending to the step summary ($GITHUB_STEP_SUMMARY): %w", err)
	}
	_, err = io.WriteString(f, stepSummary(r))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("appending to the step summary ($GITHUB_STEP_SUMMARY): %w", err)
	}
	return nil
}

// stepSummary is the run in markdown: a line of facts and a table of the denials.
func stepSummary(r *Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### agentrun: %s\n\n", mdCell(strings.Join(r.Command, " ")))
	fmt.Fprintf(&b, "Profile **%s** (%s), %s mode, exit status %d, %.1f s", mdCell(r.Profile.Name), mdCell(r.Profile.Source), r.Mode, r.Exit.Code, r.Duration)
	if r.Timeout != nil && r.Timeout.Hit {
		fmt.Fprintf(&b, ", **%s**", mdCell(timeoutLine(r)))
	}
	fmt.Fprintf(&b, ". Events: %d denied, %d would be denied, %d allowed.\n\n", r.Events.Denied, r.Events.WouldDeny, r.Events.Allowed)
	if len(r.Denials) == 0 {
		b.WriteString("Nothing was denied.\n\n")
		return b.String()
	}
	b.WriteString("| verdict | kind | operation | target | count | rule | process |\n|---|---|---|---|---:|---|---|\n")
	for i, g := range r.Denials {
		if i == maxSummaryRows {
			fmt.Fprintf(&b, "\n%d more groups: see the report.\n", len(r.Denials)-i)
			break
		}
		first := ""
		if len(g.Chain) > 0 {
			first = g.Chain[0]
		}
		fmt.Fprintf(&b, "| %s | %s | %s | `%s` | %d | %s | %s |\n", g.Verdict, g.Kind, mdCell(g.Op), mdCode(g.Target), g.Count, mdCell(g.Rule), mdCell(first))
	}
	b.WriteString("\n")
	return b.String()
}

// mdCell is agent-controlled text made safe for a markdown table cell: escaped, with the
// characters markdown and HTML give meaning to turned into entities.
func mdCell(s string) string {
	return strings.NewReplacer("|", "&#124;", "<", "&lt;", ">", "&gt;", "&", "&amp;", "`", "&#96;", "*", "&#42;", "_", "&#95;", "[", "&#91;", "]", "&#93;", "\\", "&#92;").Replace(display.Escape(s))
}

// mdCode is text for a code span in a table cell: escaped, without backticks or pipes.
func mdCode(s string) string {
	return strings.NewReplacer("`", "'", "|", "\\|").Replace(display.Escape(s))
}
