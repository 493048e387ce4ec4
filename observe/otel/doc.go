package otel
