/* migcompat shim: everything a driver needs is in one place */
#include <shim/kernel.h>
