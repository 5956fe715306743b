#include "backends/software/software_provider.h"
