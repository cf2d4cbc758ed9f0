// Package stage is the sandbox's stage: the process agentrun starts straight into the
// sandbox's new namespaces, which builds the sandbox's root, drops its privileges, confines
// itself (AppArmor, Landlock, seccomp), starts the agent and stays its PID 1; and the
// protocol between it and agentrun (its Config, the lifeline, the descriptors it hands over).
//
// It imports nothing of agentrun's policy, planning or recording, so that a binary of its own,
// cmd/agentrun-stage, starts in a fraction of agentrun's time: the stage's start lies on every
// launch's critical path.
package stage
