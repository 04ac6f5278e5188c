//go:build !linux

package main

import "syscall"

// dieWithTests does nothing where there is no parent-death signal: the
// tests stop their servers when they end.
func dieWithTests(*syscall.SysProcAttr) {}
