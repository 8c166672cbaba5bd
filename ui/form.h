/* form.h: a modal form of labelled one-line fields (the new-escrow form, and the one-field
 * note and date prompts of the compliance actions). Each field is checked as the operator
 * leaves it and all of them on submit; what is wrong is one line in the form, naming the
 * field. The widget is pure state plus a draw function; app.c owns the modal. */
#ifndef FUSION_UI_FORM_H
#define FUSION_UI_FORM_H

#include <curses.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "crypto/address.h"
#include "keymap.h"
#include "screen.h"

#define UI_FORM_MAX_FIELDS 12
#define UI_FORM_VALUE_MAX 1024

typedef struct ui_form_field {
    const char *label;   /* "Amount" */
    const char *initial; /* pre-filled text, or NULL */
    const char *hint;    /* shown while the field has focus: "1.5 (token units)" */
} ui_form_field;

typedef struct ui_form ui_form;

/* Checks field i's text (the other fields' values are readable through f): true when it is fine, else one line into why (no field name:
 * the form prefixes it). Runs on the UI thread, so it must not block. */
typedef bool (*ui_form_check_fn)(void *arg, const ui_form *f, size_t field, const char *text,
                                 char *why, size_t cap);
/* The end of the form: f is NULL when cancelled, else every field passed its check;
 * read the values with ui_form_value during the call. Returns UI_* flags. */
typedef unsigned (*ui_form_done_fn)(void *arg, const ui_form *f);

/* Opens the modal form (at most UI_FORM_MAX_FIELDS fields; labels and hints must outlive
 * it). Tab/Down and S-Tab/Up move between fields, Enter checks the field and goes to the
 * next one (on the last one it submits), Esc cancels. Fails (ERR_STATE) while another
 * dialog is open. */
int ui_form_open(ui_app *a, const char *title, const ui_form_field *fields, size_t n,
                 ui_form_check_fn check, ui_form_done_fn done, void *arg, err *e)
    __attribute__((warn_unused_result));
/* The text of field i (UTF-8). */
const char *ui_form_value(const ui_form *f, size_t i);

/* The new-escrow form of the Escrows screen (form_escrow.c): on submit it asks for the
 * passphrase and runs the create job (job.h). Returns UI_* flags. */
unsigned ui_form_escrow_open(ui_app *a);
/* The resolve form (the arbiter's decision on a disputed escrow: payee or payer). */
unsigned ui_form_resolve_open(ui_app *a, const addr *escrow);

/* ---- the widget, for app.c ---- */

typedef enum { UI_FORM_MORE, UI_FORM_SUBMIT, UI_FORM_CANCEL } ui_form_state;

int ui_form_new(ui_form **out, const char *title, const ui_form_field *fields, size_t n,
                ui_form_check_fn check, void *arg, err *e) __attribute__((warn_unused_result));
void ui_form_free(ui_form **p);
/* Applies one key. */
ui_form_state ui_form_key(ui_form *f, ui_key key);
/* The size the form would like (the caller clamps it to the screen). */
void ui_form_size(const ui_form *f, int *h, int *w);
/* Draws the form into w (erased and boxed) and returns where the cursor goes. */
void ui_form_draw(const ui_form *f, WINDOW *w, int *cy, int *cx);

#endif
