// Command ebsim runs ebwrk's deterministic simulation: the catalogue of scenarios,
// one scenario, a swarm sweep over many seeds, or the reports/ pages. See cli.go for
// the subcommands, or run ebsim -h.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }
