// The portable unit's vector type: VecScalar (vec_scalar.h), one float per "vector".
using VecMain = VecScalar;
