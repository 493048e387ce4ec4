package main

import (
	"testing"

	"github.com/apigate-go/apigate/bench/internal/contracttest"
)

func TestContract(t *testing.T) {
	contracttest.Run(t, newHandler)
}
