package main

import "syscall"

// dieWithTests makes the started process get SIGKILL when the tests' process
// dies, so that a test binary killed mid-run (a timeout) leaves no server
// behind.
func dieWithTests(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
