-- Payments: payment methods, transactions (charges and refunds) and invoices, on the payer's shard.
-- The payer is a local user and the enrollment paid for is on the same shard (the payer is the student), so
-- both are real foreign keys and taking a payment is one local transaction.
-- Errors the functions raise on purpose, as services/payments/sql_errors.py maps them:
--   no_data_found (TABLE names the resource)                       -> NOT_FOUND
--   foreign_key_violation (CONSTRAINT names the reference)         -> FAILED_PRECONDITION
--   object_not_in_prerequisite_state (HINT is the error's reason)  -> FAILED_PRECONDITION
--   invalid_parameter_value (COLUMN is the request field)          -> INVALID_ARGUMENT on that field

CREATE TABLE payment_methods (
    id           bigint      PRIMARY KEY DEFAULT next_id(),
    user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         text        NOT NULL CHECK (kind IN ('CARD', 'PAYPAL', 'BANK_TRANSFER')),
    card_brand   text        NOT NULL DEFAULT '' CHECK (card_brand ~ '^([a-z][a-z0-9_-]{0,29})?$'),
    last4        text        NOT NULL DEFAULT '' CHECK (last4 ~ '^([0-9]{4})?$'),
    exp_month    smallint    CHECK (exp_month BETWEEN 1 AND 12),
    exp_year     smallint    CHECK (exp_year BETWEEN 2000 AND 9999),
    billing_name text        NOT NULL CHECK (length(btrim(billing_name)) BETWEEN 1 AND 200),
    country_code char(2)     NOT NULL CHECK (country_code ~ '^[A-Z]{2}$'),
    -- The vault's opaque token, never a card number (12 to 19 digits once spaces and dashes are removed).
    -- Wiped when the method is deleted; the row stays because past transactions keep referring to it.
    vault_token  text        CHECK (length(vault_token) BETWEEN 1 AND 512
                                    AND translate(vault_token, ' -', '') !~ '^[0-9]{12,19}$'),
    is_default   boolean     NOT NULL DEFAULT false,
    deleted_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'CARD') = (card_brand <> '' AND exp_month IS NOT NULL AND exp_year IS NOT NULL)),
    CHECK ((kind = 'PAYPAL') = (last4 = '')),
    CHECK ((deleted_at IS NULL) = (vault_token IS NOT NULL)),
    CHECK (deleted_at IS NULL OR NOT is_default)
);
-- The foreign key's child side, deleted methods included (deleting a user cascades to its methods).
CREATE INDEX payment_methods_user_idx ON payment_methods (user_id);
-- ListPaymentMethods: a user's live methods, keyset on (created_at, id); add_payment_method's "is this the
-- first method" and delete_payment_method's "newest remaining method" read it too.
CREATE INDEX payment_methods_live_idx ON payment_methods (user_id, created_at, id) WHERE deleted_at IS NULL;
-- At most one default method per user; add and delete find the current default through it.
CREATE UNIQUE INDEX payment_methods_default_key ON payment_methods (user_id) WHERE is_default;
CREATE TRIGGER payment_methods_set_updated_at BEFORE UPDATE ON payment_methods
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE transactions (
    id                    bigint        PRIMARY KEY DEFAULT next_id(),
    user_id               bigint        NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    enrollment_id         bigint        NOT NULL REFERENCES enrollments (id) ON DELETE RESTRICT,
    payment_method_id     bigint        NOT NULL REFERENCES payment_methods (id) ON DELETE RESTRICT,
    kind                  text          NOT NULL CHECK (kind IN ('CHARGE', 'REFUND')),
    status                text          NOT NULL DEFAULT 'PENDING'
                                        CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED')),
    amount                numeric(12,2) NOT NULL CHECK (amount > 0),
    currency              char(3)       NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    -- CHARGE only: the sum of its SUCCEEDED refunds, kept right by the refresh_refunded_amount trigger.
    refunded_amount       numeric(12,2) NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0 AND refunded_amount <= amount),
    parent_transaction_id bigint        REFERENCES transactions (id) ON DELETE RESTRICT,
    description           text          NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    failure_reason        text          NOT NULL DEFAULT '' CHECK (length(failure_reason) <= 200),
    created_at            timestamptz   NOT NULL DEFAULT now(),
    updated_at            timestamptz   NOT NULL DEFAULT now(),
    CHECK ((kind = 'REFUND') = (parent_transaction_id IS NOT NULL)),
    CHECK (kind = 'CHARGE' OR refunded_amount = 0),
    CHECK ((status = 'FAILED') = (failure_reason <> ''))
);
-- ListTransactions: a user's transactions, keyset on (created_at, id); also the users foreign key's child side.
CREATE INDEX transactions_user_created_idx ON transactions (user_id, created_at, id);
-- The enrollments foreign key's child side.
CREATE INDEX transactions_enrollment_idx ON transactions (enrollment_id);
-- The payment_methods foreign key's child side.
CREATE INDEX transactions_payment_method_idx ON transactions (payment_method_id);
-- The refunds of a charge: the self-reference's child side, and what refresh_refunded_amount sums.
CREATE INDEX transactions_parent_idx ON transactions (parent_transaction_id) WHERE parent_transaction_id IS NOT NULL;
-- revenue_report: a time range, answered from the index alone.
CREATE INDEX transactions_created_idx ON transactions (created_at) INCLUDE (user_id, kind, status, currency, amount);
-- take_payment: at most one SUCCEEDED charge per enrollment, whatever the request_ids; course_revenue reads
-- the paid charges of a course's enrollments from it.
CREATE UNIQUE INDEX transactions_paid_enrollment_key ON transactions (enrollment_id)
    INCLUDE (currency, amount, refunded_amount) WHERE kind = 'CHARGE' AND status = 'SUCCEEDED';
CREATE TRIGGER transactions_set_updated_at BEFORE UPDATE ON transactions
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Invoice numbers: a per-shard sequence; the number also carries the shard number, so it is unique across
-- every region. A rolled-back payment leaves a gap in the sequence.
CREATE SEQUENCE invoice_number_seq;

-- 3NF: the payer, the currency and the totals are not stored here; they follow from the transaction and the
-- line items. Billing name and country are copied from the payment method as they were at issue time.
CREATE TABLE invoices (
    id             bigint        PRIMARY KEY DEFAULT next_id(),
    transaction_id bigint        NOT NULL REFERENCES transactions (id) ON DELETE RESTRICT,
    invoice_number text          NOT NULL CHECK (invoice_number ~ '^INV-[0-9]{4}-[0-9]{2,4}-[0-9]{6,}$'),
    tax            numeric(12,2) NOT NULL DEFAULT 0 CHECK (tax >= 0),
    billing_name   text          NOT NULL CHECK (length(btrim(billing_name)) BETWEEN 1 AND 200),
    country_code   char(2)       NOT NULL CHECK (country_code ~ '^[A-Z]{2}$'),
    issued_at      timestamptz   NOT NULL DEFAULT now()
);
-- One invoice per charge; CreatePayment (and its replay) finds a charge's invoice through it.
CREATE UNIQUE INDEX invoices_transaction_key ON invoices (transaction_id);
CREATE UNIQUE INDEX invoices_number_key ON invoices (invoice_number);

CREATE TABLE invoice_line_items (
    invoice_id  bigint        NOT NULL REFERENCES invoices (id) ON DELETE RESTRICT,
    position    integer       NOT NULL CHECK (position > 0),
    description text          NOT NULL CHECK (length(btrim(description)) BETWEEN 1 AND 500),
    quantity    integer       NOT NULL CHECK (quantity > 0),
    unit_price  numeric(12,2) NOT NULL CHECK (unit_price >= 0),
    -- GetInvoice reads an invoice's lines in order; also the foreign key's child side.
    PRIMARY KEY (invoice_id, position)
);

-- Invoices are legal records: issued once, never changed.
CREATE FUNCTION forbid_invoice_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows never change once issued', TG_TABLE_NAME USING ERRCODE = 'object_not_in_prerequisite_state',
        HINT = 'INVOICE_IMMUTABLE';
END;
$$;
CREATE TRIGGER invoices_immutable BEFORE UPDATE OR DELETE ON invoices
    FOR EACH ROW EXECUTE FUNCTION forbid_invoice_change();
CREATE TRIGGER invoice_line_items_immutable BEFORE UPDATE OR DELETE ON invoice_line_items
    FOR EACH ROW EXECUTE FUNCTION forbid_invoice_change();

-- Keeps a charge's refunded_amount equal to the sum of its SUCCEEDED refunds; the column's CHECK then refuses
-- refunds beyond the amount whatever the caller did.
CREATE FUNCTION refresh_refunded_amount() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE transactions c
       SET refunded_amount = (SELECT coalesce(sum(r.amount), 0) FROM transactions r
                               WHERE r.parent_transaction_id = c.id AND r.kind = 'REFUND' AND r.status = 'SUCCEEDED')
     WHERE c.id = NEW.parent_transaction_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER transactions_refresh_refunded AFTER INSERT OR UPDATE OF status, amount ON transactions
    FOR EACH ROW WHEN (NEW.kind = 'REFUND') EXECUTE FUNCTION refresh_refunded_amount();

-- The next invoice number of this shard: INV-<year>-<shard number>-<sequence>, e.g. INV-2026-02-000123.
CREATE FUNCTION next_invoice_number() RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    shard bigint;
    seq   bigint := nextval('invoice_number_seq');
BEGIN
    SELECT shard_number INTO STRICT shard FROM shard_identity;
    RETURN format('INV-%s-%s-%s', to_char(now() AT TIME ZONE 'UTC', 'YYYY'),
                  lpad(shard::text, greatest(2, length(shard::text)), '0'),
                  lpad(seq::text, greatest(6, length(seq::text)), '0'));
END;
$$;

-- AddPaymentMethod. The user's row is locked so concurrent adds and deletes agree on the default: the first
-- method becomes the default, and a new default clears the old one.
CREATE FUNCTION add_payment_method(p_id bigint, p_user_id bigint, p_kind text, p_card_brand text, p_last4 text,
                                   p_exp_month integer, p_exp_year integer, p_billing_name text,
                                   p_country_code text, p_token text, p_is_default boolean) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    make_default boolean;
BEGIN
    PERFORM 1 FROM users WHERE id = p_user_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'user % not found', p_user_id USING ERRCODE = 'no_data_found', TABLE = 'users';
    END IF;
    make_default := p_is_default OR NOT EXISTS (
        SELECT 1 FROM payment_methods WHERE user_id = p_user_id AND deleted_at IS NULL);
    IF make_default THEN
        UPDATE payment_methods SET is_default = false WHERE user_id = p_user_id AND is_default;
    END IF;
    INSERT INTO payment_methods (id, user_id, kind, card_brand, last4, exp_month, exp_year, billing_name,
                                 country_code, vault_token, is_default)
    VALUES (p_id, p_user_id, p_kind, p_card_brand, p_last4, p_exp_month, p_exp_year, p_billing_name,
            p_country_code, p_token, make_default);
    RETURN p_id;
END;
$$;

-- DeletePaymentMethod: forgets the token and keeps the row for past transactions; deleting the default makes
-- the newest remaining method the default.
CREATE FUNCTION delete_payment_method(p_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    owner       bigint;
    was_default boolean;
BEGIN
    SELECT user_id INTO owner FROM payment_methods WHERE id = p_id AND deleted_at IS NULL;
    IF FOUND THEN
        PERFORM 1 FROM users WHERE id = owner FOR NO KEY UPDATE;
        SELECT is_default INTO was_default FROM payment_methods WHERE id = p_id AND deleted_at IS NULL FOR UPDATE;
    END IF;
    IF was_default IS NULL THEN
        RAISE EXCEPTION 'payment method % not found', p_id USING ERRCODE = 'no_data_found', TABLE = 'payment_methods';
    END IF;
    UPDATE payment_methods SET deleted_at = now(), vault_token = NULL, is_default = false WHERE id = p_id;
    IF was_default THEN
        UPDATE payment_methods SET is_default = true
         WHERE id = (SELECT id FROM payment_methods WHERE user_id = owner AND deleted_at IS NULL
                      ORDER BY created_at DESC, id DESC LIMIT 1);
    END IF;
END;
$$;

-- CreatePayment: the charge, and when it succeeded its invoice with one line and the enrollment marked PAID,
-- all in the caller's transaction. p_failure_reason is the processor's decline ('' when it accepted); a
-- declined charge is recorded FAILED with no invoice. Returns the invoice's ID, NULL for a declined charge.
CREATE FUNCTION take_payment(p_id bigint, p_user_id bigint, p_enrollment_id bigint, p_payment_method_id bigint,
                             p_amount numeric, p_currency text, p_description text, p_failure_reason text)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    e          enrollments%ROWTYPE;
    bill_name  text;
    bill_cc    text;
    new_invoice bigint;
BEGIN
    PERFORM 1 FROM users WHERE id = p_user_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'user % not found', p_user_id USING ERRCODE = 'no_data_found', TABLE = 'users';
    END IF;
    SELECT * INTO e FROM enrollments WHERE id = p_enrollment_id AND student_id = p_user_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'enrollment % is not an enrollment of user %', p_enrollment_id, p_user_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'transactions_enrollment_id_fkey';
    END IF;
    IF e.state = 'CANCELLED' THEN
        RAISE EXCEPTION 'enrollment % is cancelled', p_enrollment_id
            USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'ENROLLMENT_CANCELLED';
    END IF;
    IF e.payment_state <> 'UNPAID' THEN
        RAISE EXCEPTION 'enrollment % is already % (only an UNPAID enrollment can be paid)', p_enrollment_id,
            e.payment_state USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'ENROLLMENT_NOT_UNPAID';
    END IF;
    IF p_currency <> e.course_currency THEN
        RAISE EXCEPTION 'the enrollment is priced in %, not %', e.course_currency, p_currency
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'amount.currency_code';
    END IF;
    IF p_amount <> e.course_price THEN
        RAISE EXCEPTION 'must equal the enrollment''s course price % % (got %)', e.course_price, e.course_currency,
            p_amount USING ERRCODE = 'invalid_parameter_value', COLUMN = 'amount.amount';
    END IF;
    SELECT billing_name, country_code INTO bill_name, bill_cc FROM payment_methods
     WHERE id = p_payment_method_id AND user_id = p_user_id AND deleted_at IS NULL FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'payment method % is not a payment method of user %', p_payment_method_id, p_user_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'transactions_payment_method_id_fkey';
    END IF;
    INSERT INTO transactions (id, user_id, enrollment_id, payment_method_id, kind, status, amount, currency,
                              description, failure_reason)
    VALUES (p_id, p_user_id, p_enrollment_id, p_payment_method_id, 'CHARGE',
            CASE WHEN p_failure_reason = '' THEN 'SUCCEEDED' ELSE 'FAILED' END, p_amount, p_currency,
            p_description, p_failure_reason);
    IF p_failure_reason <> '' THEN
        RETURN NULL;
    END IF;
    INSERT INTO invoices (transaction_id, invoice_number, tax, billing_name, country_code)
    VALUES (p_id, next_invoice_number(), 0, bill_name, bill_cc)
    RETURNING id INTO new_invoice;
    INSERT INTO invoice_line_items (invoice_id, position, description, quantity, unit_price)
    VALUES (new_invoice, 1, p_description, 1, p_amount);
    UPDATE enrollments SET payment_state = 'PAID' WHERE id = p_enrollment_id;
    RETURN new_invoice;
END;
$$;

-- RefundPayment: all (p_amount NULL) or part of what remains of a SUCCEEDED charge, never more; the trigger
-- adds the refund to the charge, and a fully refunded charge marks its enrollment REFUNDED.
CREATE FUNCTION refund_payment(p_id bigint, p_charge_id bigint, p_amount numeric, p_currency text, p_reason text)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    c         transactions%ROWTYPE;
    remaining numeric;
    refund    numeric;
BEGIN
    SELECT * INTO c FROM transactions WHERE id = p_charge_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'transaction % not found', p_charge_id USING ERRCODE = 'no_data_found', TABLE = 'transactions';
    END IF;
    IF c.kind <> 'CHARGE' OR c.status <> 'SUCCEEDED' THEN
        RAISE EXCEPTION 'only a SUCCEEDED CHARGE can be refunded (transaction % is a % %)', p_charge_id, c.status,
            c.kind USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'NOT_A_SUCCEEDED_CHARGE';
    END IF;
    remaining := c.amount - c.refunded_amount;
    IF remaining = 0 THEN
        RAISE EXCEPTION 'charge % is already fully refunded', p_charge_id
            USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'ALREADY_REFUNDED';
    END IF;
    IF p_currency IS NOT NULL AND p_currency <> c.currency THEN
        RAISE EXCEPTION 'must be the charge''s currency %', c.currency
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'amount.currency_code';
    END IF;
    refund := coalesce(p_amount, remaining);
    IF refund > remaining THEN
        RAISE EXCEPTION 'must be at most the % % that remains to be refunded (got %)', remaining, c.currency, refund
            USING ERRCODE = 'invalid_parameter_value', COLUMN = 'amount.amount';
    END IF;
    INSERT INTO transactions (id, user_id, enrollment_id, payment_method_id, kind, status, amount, currency,
                              parent_transaction_id, description)
    VALUES (p_id, c.user_id, c.enrollment_id, c.payment_method_id, 'REFUND', 'SUCCEEDED', refund, c.currency,
            c.id, p_reason);
    IF refund = remaining THEN
        UPDATE enrollments SET payment_state = 'REFUNDED' WHERE id = c.enrollment_id;
    END IF;
    RETURN p_id;
END;
$$;

-- GetRevenueReport: this shard's totals per currency over [p_from, p_to), for one region (NULL: all of the
-- shard's regions). Only SUCCEEDED transactions count towards the amounts.
CREATE FUNCTION revenue_report(p_region text, p_from timestamptz, p_to timestamptz)
RETURNS TABLE (currency_code text, gross_amount numeric, refunded_amount numeric, charge_count bigint,
               refund_count bigint, failed_count bigint)
LANGUAGE sql STABLE AS $$
    SELECT t.currency::text,
           coalesce(sum(t.amount) FILTER (WHERE t.kind = 'CHARGE' AND t.status = 'SUCCEEDED'), 0),
           coalesce(sum(t.amount) FILTER (WHERE t.kind = 'REFUND' AND t.status = 'SUCCEEDED'), 0),
           count(*) FILTER (WHERE t.kind = 'CHARGE' AND t.status = 'SUCCEEDED'),
           count(*) FILTER (WHERE t.kind = 'REFUND' AND t.status = 'SUCCEEDED'),
           count(*) FILTER (WHERE t.status = 'FAILED')
      FROM transactions t
     WHERE t.created_at >= p_from AND t.created_at < p_to
       AND (p_region IS NULL OR EXISTS (SELECT 1 FROM users u WHERE u.id = t.user_id AND u.region = p_region))
     GROUP BY t.currency
     ORDER BY t.currency;
$$;

-- GetCourseStatistics (courses service, once per shard): what this shard's students paid for each course,
-- per currency: the SUCCEEDED charges, their refunds, and the net.
CREATE FUNCTION course_revenue(p_course_ids bigint[])
RETURNS TABLE (course_id bigint, currency_code text, gross_amount numeric, refunded_amount numeric,
               net_amount numeric, paid_count bigint)
LANGUAGE sql STABLE AS $$
    SELECT e.course_id, t.currency::text, sum(t.amount), sum(t.refunded_amount),
           sum(t.amount - t.refunded_amount), count(*)
      FROM enrollments e
      JOIN transactions t ON t.enrollment_id = e.id AND t.kind = 'CHARGE' AND t.status = 'SUCCEEDED'
     WHERE e.course_id = ANY (p_course_ids)
     GROUP BY e.course_id, t.currency
     ORDER BY e.course_id, t.currency;
$$;
