#include "check.h"
void ck_api(struct ck *c)
{
	ck_lifecycle(c);
}
