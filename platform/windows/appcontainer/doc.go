// Package appcontainer starts a process in a Windows AppContainer, inside a Job Object that
// holds its limits and its whole process tree, with its standard handles or a pseudo console
// (ConPTY). The Windows calls live in the _windows files; the limits' arithmetic and the
// capability names are pure and tested on every OS.
//
// An AppContainer process runs with a token whose package SID (derived from the profile's
// name) and capability SIDs are the only identities an access check grants it beyond what
// names "ALL APPLICATION PACKAGES" (S-1-15-2-1; not even that in a less privileged
// AppContainer, LPAC): a file is readable only when its DACL grants the container's SID, and
// the network only with the internetClient or privateNetworkClientServer capability
// (learn.microsoft.com: "AppContainer isolation", "Implementing an AppContainer").
// Loopback stays closed whatever the capabilities unless the host exempts the container.
//
// Start creates the Job Object first (kill on close, job memory, active processes, a hard
// CPU rate cap), then the process suspended with a proc-thread attribute list holding
// SECURITY_CAPABILITIES (and PSEUDOCONSOLE, or a HANDLE_LIST of exactly its three standard
// handles), assigns it to the job and only then resumes it, so it never runs outside the job.
package appcontainer
