/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The generated skeleton names types from include/sgctl.h (the .bss
 * sg_dry_result) without including it: include this instead of
 * sgctl.skel.h so every user gets them in the right order.
 */
#ifndef SG_SKEL_H
#define SG_SKEL_H

#include <linux/types.h>

#include "sgctl.h"
#include "sgctl.skel.h"

#endif /* SG_SKEL_H */
