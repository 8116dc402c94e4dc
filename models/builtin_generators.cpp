// The list of built-in architectures: one registration line per architecture file.
namespace srlab::models {

void register_builtin_generators() {
}

}  // namespace srlab::models
