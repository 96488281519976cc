/** An app's logo from its catalog (an https: or data: image), or its initial when there is none
 * or it does not load. Decorative: the app's name is always beside it. */
import { useState } from "react";

const SHOWN = /^(https:\/\/|data:image\/)/;

export function AppLogo({ src, title, size = "h-10 w-10" }: { src: string; title: string; size?: string }) {
  const [broken, setBroken] = useState(false);
  if (SHOWN.test(src) && !broken) {
    return <img src={src} alt="" loading="lazy" referrerPolicy="no-referrer" onError={() => setBroken(true)} className={`${size} shrink-0 rounded object-contain`} />;
  }
  const hue = [...title].reduce((sum, c) => sum + c.charCodeAt(0), 0) % 360;
  return (
    <span aria-hidden="true" className={`${size} inline-flex shrink-0 items-center justify-center rounded text-lg font-bold text-white`} style={{ background: `hsl(${hue} 55% 40%)` }}>
      {title.trim().charAt(0).toUpperCase() || "?"}
    </span>
  );
}
