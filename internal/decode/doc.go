// Package decode compiles struct types into decoders and encoders for path
// parameters, query strings and form bodies, and into required-field checks
// for JSON bodies.
//
// [Compile] and [CompileJSON] do all the reflection, once, when a gateway is
// built. The resulting [Plan] and [JSONPlan] read and write fields through
// precomputed offsets and kind-specific functions, so decoding a request
// uses no reflection and allocates only for the pointer and slice fields it
// fills (and, once per call, a scratch buffer for UnmarshalText).
//
// The functions take the target struct as an unsafe.Pointer; callers obtain
// it from a *T of the type the plan was compiled for, typically in generic
// code: plan.DecodeValues(unsafe.Pointer(&in), values). Passing a pointer to
// any other type is undefined behaviour.
//
// Errors about input are *[FieldError] values with client-safe messages;
// errors from Compile name the type, field and problem.
package decode
