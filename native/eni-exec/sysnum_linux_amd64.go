package main

// setns(2); the frozen syscall package does not define SYS_SETNS on amd64.
const sysSetns = 308
