package profiles

// Decode is Parse without the validation, for TestBuiltinDecoded.
func Decode(name string, data []byte) (*File, error) { return parse(name, data, false) }

// DecodedBuiltinSum is the YAML sum builtin_decoded.go holds for name, "" without one.
func DecodedBuiltinSum(name string) string { return decodedBuiltins[name].sum }

// BuiltinSum is builtinSum.
var BuiltinSum = builtinSum
