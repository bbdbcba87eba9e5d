#include "check.h"
void ck_auth(struct ck *c)
{
	ck_lifecycle(c);
}
