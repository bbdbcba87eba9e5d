/* SPDX-License-Identifier: MIT */
/*
 * An intrusive doubly linked list, as the Linux kernel's list_head: a
 * struct wg_list sits inside the object, wg_list_entry() gets the object
 * back, and one object can be on several lists through several links.
 *
 * A list head is circular (an empty one points at itself). A link that is
 * on no list is all zeroes: calloc'd objects start unlinked, and
 * wg_list_del() makes a link so again.
 */
#ifndef WG_LIST_H
#define WG_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct wg_list {
	struct wg_list *prev, *next;
};

/* The object of type `type` whose `member` is the link at ptr. */
#define wg_list_entry(ptr, type, member) \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* Each link of the list at head; the body may not unlink `pos`. */
#define wg_list_for_each(pos, head) \
	for ((pos) = (head)->next; (pos) != (head); (pos) = (pos)->next)

/* Each link, reading the next one first: the body may unlink `pos`. */
#define wg_list_for_each_safe(pos, tmp, head)                            \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head); \
	     (pos) = (tmp), (tmp) = (pos)->next)

/* Make h an empty list head. */
static inline void wg_list_init(struct wg_list *h)
{
	h->prev = h->next = h;
}

/* Whether the list at head h has no entry. */
static inline bool wg_list_empty(const struct wg_list *h)
{
	return h->next == h;
}

/* Whether the link n is on a list. */
static inline bool wg_list_linked(const struct wg_list *n)
{
	return n->next != NULL;
}

/* Put the link n first on the list at head h. */
static inline void wg_list_add(struct wg_list *h, struct wg_list *n)
{
	n->prev = h;
	n->next = h->next;
	h->next->prev = n;
	h->next = n;
}

/* Take the link n off its list; n reads as unlinked afterwards. */
static inline void wg_list_del(struct wg_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = NULL;
}

#endif
