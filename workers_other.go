//go:build !unix

package apigate

import (
	"context"
	"errors"
	"net/http"
)

var errWorkersUnix = errors.New("apigate: ServeOptions.Workers needs a Unix system")

func serveWorkers(context.Context, string, http.Handler, ServeOptions, bool) error {
	return errWorkersUnix
}

func serveWorker(context.Context, http.Handler, ServeOptions) error { return errWorkersUnix }
