// The definition of an order line's figures, shared by the rollups that the loads maintain and by the
// analytics that read order lines directly (the partial months at the ends of a range): exact numeric.
//   gross = quantity x unit price; discount = gross x discount; revenue = gross - discount;
//   cost = quantity x unit cost (null when the unit cost is unknown).
export const LINE_FIGURES = `(
  SELECT order_id, product_id, quantity, shipping_cost, unit_cost, gross, gross * discount AS discount,
         gross - gross * discount AS revenue, quantity * unit_cost AS cost
  FROM (SELECT *, quantity * unit_price AS gross FROM order_items) AS priced
) AS i`;
