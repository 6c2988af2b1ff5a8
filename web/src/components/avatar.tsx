import { useState } from "preact/hooks";
import { customerName, initials } from "../lib/format.js";
import type { CustomerView } from "../sdk.js";

/** The customer's picture, or their initials when there is none or it fails to load. */
export function Avatar({ customer, size = "md" }: { customer: CustomerView; size?: "md" | "lg" }) {
  const [broken, setBroken] = useState(false);
  const name = customerName(customer);
  const src = customer.profile_picture;
  return (
    <span class={`avatar avatar-${size} avatar-${customer.source}`} aria-hidden="true">
      {src && !broken ? (
        <img src={src} alt="" loading="lazy" onError={() => setBroken(true)} />
      ) : (
        initials(name)
      )}
    </span>
  );
}
