// Package decode compiles struct types into decoders and encoders for path
// parameters, query strings and form bodies, into JSON decoders and
// encoders, and into required-field checks for JSON bodies.
//
// [Compile], [CompileJSONDecoder], [CompileJSONEncoder] and [CompileJSON] do
// all the reflection, once, when a gateway is built. The resulting [Plan],
// [JSONDecoder], [JSONEncoder] and [JSONPlan] read and write fields through
// precomputed offsets and kind-specific functions, so decoding a request
// uses no reflection and allocates only for the pointer and slice fields it
// fills (and, once per call, a scratch buffer for UnmarshalText; from JSON,
// the strings). Maps, whose type is known only at run time, are the
// exception: the JSON codecs fill and walk them through the reflect package.
//
// The JSON codecs reproduce encoding/json: a [JSONDecoder] succeeds exactly
// when json.Unmarshal would and leaves the same value, so a caller can
// decode a refused document again with encoding/json to report its error; a
// [JSONEncoder] writes the bytes json.Marshal would. Types they do not
// handle (custom marshalers and unmarshalers, interfaces, json.Number,
// recursive types) make the Compile functions return [ErrJSONUnsupported],
// and callers use encoding/json for them.
//
// The functions take the target struct as an unsafe.Pointer; callers obtain
// it from a *T of the type the plan was compiled for, typically in generic
// code: plan.DecodeValues(unsafe.Pointer(&in), values). Passing a pointer to
// any other type is undefined behaviour.
//
// Errors about input are *[FieldError] values with client-safe messages;
// errors from Compile name the type, field and problem.
package decode
