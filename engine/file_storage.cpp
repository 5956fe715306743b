#include "engine/storage.h"
