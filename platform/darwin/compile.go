package darwin

// compileOptions are what a run passes the SBPL compiler besides the policy.
type compileOptions struct {
	Tag        string // the run's message tag, which the unified log's reports carry
	ProxyPorts []int  // the loopback ports of agentrun's proxy: the only network allowed
	Audit      bool   // allow with report what enforce mode denies
}

// compiledProfile is an SBPL profile and the -D parameters it reads.
type compiledProfile struct {
	Text   string
	Params []Param
}
