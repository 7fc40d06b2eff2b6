// pause holds a pod's namespaces for the one-machine cluster's kubelets (their
// --pod-infra-container-image; no registry here serves k8s.gcr.io/pause). It
// sleeps until SIGTERM or SIGINT, and reaps the children it inherits as the
// pod's first process.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for received := range signals {
		if received != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
