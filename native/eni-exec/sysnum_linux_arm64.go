package main

// setns(2); the frozen syscall package does not define SYS_SETNS on every arch.
const sysSetns = 268
