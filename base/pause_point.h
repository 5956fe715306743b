// Pause points: named places between two steps of a multi-process protocol (the backing
// claimed but not yet read, a ublk device added but not yet started, a dead server found
// but not yet cleaned up) where a test can hold one party while it plays the other, so
// that a race is a deterministic test rather than a hope.
//
// The shipped program installs no hook: pause_point() is one load of a null pointer. The
// test build (fixtures/test_build/pause_from_env.cpp) installs one driven by an environment
// variable; unit tests install their own.
#pragma once

namespace ublkcrypt {

using PauseHook = void (*)(const char* point);

// Calls the installed hook, if any, with `point`; returns when the hook does.
void pause_point(const char* point);

// Installs `hook` (nullptr removes it) and returns the previous one. Not thread-safe
// against concurrent installs: tests and static initialisers install, everyone else calls.
PauseHook set_pause_hook(PauseHook hook);

}  // namespace ublkcrypt
