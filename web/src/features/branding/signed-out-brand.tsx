/** The brand above every signed-out page: the host's (a client's custom host), else the platform's. */
import { useQuery } from '@tanstack/react-query';
import { BrandMark, useDocumentBrand } from './brand-mark.tsx';
import { brandingQueries } from './branding.queries.ts';

/** What the header shows when the brand cannot be loaded: the stylesheet's own colors go with it. */
export const PLATFORM_BRAND_MARK = { display_name: 'XLNC Perception', logo_url: null } as const;

export function SignedOutBrand() {
  const brand = useQuery(brandingQueries.forHost());
  useDocumentBrand(brand.data);
  // Holds the space while the brand loads, so the platform's name never flashes on a client's host.
  if (brand.isPending) return <div className="brand brand-large brand-pending" aria-hidden="true" />;
  return (
    <div className="brand brand-large">
      <BrandMark brand={brand.data ?? PLATFORM_BRAND_MARK} />
    </div>
  );
}
