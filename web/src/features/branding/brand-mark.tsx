/** A brand's logo (or its initial) and name: the header, the sign-in pages, a client's context bar. */
import { useEffect, useState } from 'react';
import { brandInitial, brandStyle } from './brand-theme.ts';
import type { Brand } from './branding.queries.ts';

export function BrandMark({ brand }: { brand: Pick<Brand, 'display_name' | 'logo_url'> }) {
  const [broken, setBroken] = useState<string | null>(null);
  const logo = brand.logo_url !== null && brand.logo_url !== broken ? brand.logo_url : null;
  return (
    <>
      {logo !== null ? (
        // The name is beside it: the logo itself says nothing more.
        <img className="brand-logo" src={logo} alt="" onError={() => setBroken(logo)} />
      ) : (
        <span className="brand-mark" aria-hidden="true">
          {brandInitial(brand.display_name)}
        </span>
      )}
      <span className="brand-name">{brand.display_name}</span>
    </>
  );
}

/**
 * Wears `brand` on the whole document (portalled menus and dialogs included) while mounted;
 * `undefined` keeps the stylesheet's platform colors.
 */
export function useDocumentBrand(brand: Brand | undefined): void {
  const key = brand === undefined ? '' : JSON.stringify(brand);
  useEffect(() => {
    if (brand === undefined) return;
    const root = document.documentElement;
    const style = brandStyle(brand);
    for (const [name, value] of Object.entries(style)) root.style.setProperty(name, value);
    const title = document.title;
    document.title = brand.display_name;
    return () => {
      for (const name of Object.keys(style)) root.style.removeProperty(name);
      document.title = title;
    };
    // `key` stands for the brand's content: a refetch with the same brand changes nothing.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
}
