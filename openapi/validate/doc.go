// Package validate checks, in its tests, that the OpenAPI 3.1 documents
// apigate generates are valid and describe real exchanges through a
// gateway. It is a module of its own so that the validator's dependencies
// stay out of apigate's.
package validate
