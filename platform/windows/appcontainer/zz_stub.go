package appcontainer

type Limits struct{ MemoryBytes, Processes, MilliCPU int64 }
