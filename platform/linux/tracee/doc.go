// Package tracee makes a process that this thread traces, stopped at the first instruction of
// a program it has just exec'd (nothing of the program has run), make system calls of
// agentrun's choosing: a syscall instruction written at its entry point, its registers set for
// the call, one single step; or several calls written there as code that a clone of it runs
// with one stop (WriteCalls, RunCalls). agentrun uses it to put a vforked process into namespaces that Go
// would otherwise fork all of agentrun for (amd64 only: the instruction and the registers are
// the architecture's).
package tracee
