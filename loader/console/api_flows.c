// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Placeholder: the routes of docs/console.md land here. */
#include "console/console.h"

const struct sg_route sg_api_flow_routes[] = {
	{NULL, NULL, NULL, false},
};
